/**
 * What a plan says about one write, given the state just read: send this write (its
 * preconditions inside it); nothing, because the change no longer applies (gone, already done);
 * or a refusal, because the state changed so that the change is no longer safe. The mutation
 * pipeline (src/commands/change.ts) asks a plan again with fresh state after every conflict.
 */
export type Planned<W> = { write: W } | { none: string } | { refuse: string };

/** Delete preconditions: exactly the object that was judged, as it was read. */
export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

export function preconditionsOf(o: { metadata: { uid?: string | undefined; resourceVersion?: string | undefined } }): DeletePreconditions {
  return { ...(o.metadata.uid ? { uid: o.metadata.uid } : {}), ...(o.metadata.resourceVersion ? { resourceVersion: o.metadata.resourceVersion } : {}) };
}
