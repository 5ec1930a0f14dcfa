import type { UsageStore, VectorIndex } from '../ports.js'

/**
 * The embedded VectorIndex (the default): every profile from the usage store's hourly rollup, one batched query per
 * chunk (UsageStore.shapeProfiles), exact cosine computed by the shape signal. No infrastructure of its own, so it
 * lives beside the use case rather than in an adapter folder: it only composes the UsageStore port. Its profiles are
 * the usage store's own, so the job reads them in its windows' scan (fromUsageScan) rather than asking here.
 */
export function embeddedVectorIndex(usage: Pick<UsageStore, 'shapeProfiles'>): VectorIndex {
  return {
    kind: 'embedded',
    fromUsageScan: true,
    // Looked up on each call: a test that wraps usage.shapeProfiles still sees the job's queries.
    async *profiles(request) {
      for await (const chunk of usage.shapeProfiles(
        request.slot,
        request.weeks,
        request.metrics,
        request.range,
      ))
        yield chunk.profiles
    },
    close: async () => undefined,
  }
}
