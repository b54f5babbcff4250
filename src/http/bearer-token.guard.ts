import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Environment } from '../config/environment';

/**
 * Control endpoints require `Authorization: Bearer {API_TOKEN}` when a token is configured
 * (CONTRACT §5; production refuses to start without one). Digests are compared, so the
 * comparison takes the same time whatever the length or content of the presented token.
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(env: Environment) {
    this.expected = env.API_TOKEN === undefined ? undefined : digest(env.API_TOKEN);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const http = context.switchToHttp();
    const header =
      http.getRequest<{ headers: { authorization?: string } }>().headers.authorization ?? '';
    const match = /^Bearer (\S+)$/i.exec(header.trim());
    if (match && timingSafeEqual(digest(match[1]), this.expected)) return true;
    http
      .getResponse<{ setHeader(name: string, value: string): void }>()
      .setHeader('WWW-Authenticate', 'Bearer');
    throw new UnauthorizedException(
      match ? 'the bearer token is not valid' : 'an Authorization: Bearer token is required',
    );
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
