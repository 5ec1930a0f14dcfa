// The ports the use cases depend on, one file per side (ports/): adapters implement them, src/app calls them.

export * from './ports/alerts.js'
export * from './ports/stores.js'
export * from './ports/telemetry.js'
export * from './ports/usage.js'
