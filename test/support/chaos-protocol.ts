// Moved to chaos/chaos-protocol.ts, beside the chaos worker; kept for existing imports.
export * from '../../chaos/chaos-protocol';
