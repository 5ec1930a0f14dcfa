/**
 * The Lambda bundle's entry (scripts/build-lambda.ts): `index.handler` (EventBridge schedule, the coordinator)
 * and `index.worker` (SQS shard tasks). The Terraform module names both; they never change.
 */
export { handler } from './handler.js'
export { worker } from './worker.js'
