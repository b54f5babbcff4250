import { signatureOf } from './alert-math';
import { AlertDelivery } from './alert-outbox';

/** Longest wait for the receiver's answer. */
const TIMEOUT_MS = 10_000;

/** POSTs alerts to `url`, signed with `secret`; anything but a 2xx answer is a failure. */
export function webhookDelivery(url: string, secret: string): AlertDelivery {
  return async (alertId, body) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-alert-id': alertId,
        'x-alert-signature': signatureOf(secret, body),
      },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    // The body is not needed; reading it frees the connection.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  };
}
