import { ValidateBy, ValidationOptions } from 'class-validator';

/**
 * A keyset position in a list ordered by (value, id): the value and id of the last item
 * served. Opaque to clients (base64url JSON); stable while items are added or change.
 */
export interface PagePosition {
  value: number;
  id: string;
}

export function encodeCursor(position: PagePosition): string {
  return Buffer.from(JSON.stringify([position.value, position.id])).toString('base64url');
}

/** The position, or undefined when `cursor` is not one this service handed out. */
export function decodeCursor(cursor: string): PagePosition | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'number' &&
      Number.isFinite(parsed[0]) &&
      typeof parsed[1] === 'string'
    ) {
      return { value: parsed[0], id: parsed[1] };
    }
  } catch {
    // Falls through: not a cursor of ours.
  }
  return undefined;
}

/** Validates a query parameter as a cursor from a previous page. */
export function IsPageCursor(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPageCursor',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && value.length <= 512 && decodeCursor(value) !== undefined,
        defaultMessage: (args) =>
          `${args?.property ?? 'cursor'} must be the next_cursor of a previous page`,
      },
    },
    options,
  );
}

/** A page of a list (CONTRACT §5): `next_cursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
