// Every poll that follows one thing on the server (an import, a video's processing, a clip being
// made) registers here under the thing's id, and under the ids of what owns it (a clip's video), so
// that deleting the thing or its owner can first stop each poll and abort its request in flight.
// Otherwise a poll the server answers just after the delete gets a 404, which the browser reports as
// a console error and the card shows as "no longer exists".
import { create } from "zustand";

/** How many deletions in progress have paused each id. */
const usePaused = create<Record<string, number>>(() => ({}));
const stops = new Map<string, Set<() => void>>();

/**
 * Registers `stop` (idempotent: it stops the poll and aborts its request) as a poll following each of
 * `ids`. Returns the cleanup for an effect: it unregisters and stops.
 */
export function follow(ids: string | readonly string[], stop: () => void): () => void {
  const unregister = (typeof ids === "string" ? [ids] : ids).map((id) => {
    let set = stops.get(id);
    if (!set) stops.set(id, (set = new Set()));
    set.add(stop);
    const registered = set;
    return () => {
      registered.delete(stop);
      if (registered.size === 0 && stops.get(id) === registered) stops.delete(id);
    };
  });
  return () => {
    for (const u of unregister) u();
    stop();
  };
}

/**
 * Stops every poll following `id` now, before this returns, and keeps new ones from starting (see
 * useFollowingPaused) until the returned `resume` is called, for a delete that failed.
 */
export function pauseFollowing(id: string): () => void {
  usePaused.setState((s) => ({ [id]: (s[id] ?? 0) + 1 }));
  for (const stop of [...(stops.get(id) ?? [])]) stop();
  let resumed = false;
  return () => {
    if (resumed) return;
    resumed = true;
    usePaused.setState(
      (s) => {
        const next = { ...s };
        const n = (s[id] ?? 0) - 1;
        if (n > 0) next[id] = n;
        else delete next[id];
        return next;
      },
      true,
    );
  };
}

/** Whether polls of any of `ids` must not run now (a deletion of it is in progress or done). */
export function useFollowingPaused(...ids: (string | null)[]): boolean {
  return usePaused((s) => ids.some((id) => id !== null && (s[id] ?? 0) > 0));
}
