// Moved to support/mirrored-clock.ts (chaos workers mirror the clock too); kept for existing imports.
export * from '../../support/mirrored-clock';
