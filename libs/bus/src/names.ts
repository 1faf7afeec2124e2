// Bus names shared by more than one domain class, defined once so they cannot drift apart.

/** Gateways (and the recorder) → the worker owning the session. */
export const inputChannel = (sessionId: string) => `sess:${sessionId}:in`;
