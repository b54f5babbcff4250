/** Result of an adapter's readiness check, for `GET /health/ready`. */
export interface ProviderReadiness {
  ok: boolean;
  detail: string;
  /** The provider does not know the configured model (HTTP 404): waiting will not help. */
  modelNotFound?: boolean;
}

/**
 * Implemented by adapters that talk to a remote provider: whether it is usable now. An
 * adapter without it (the local ones) is always ready.
 */
export interface ReadinessCheck {
  checkReady?(): Promise<ProviderReadiness>;
}
