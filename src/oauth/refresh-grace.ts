import { safeEqual } from './wire.js';

/**
 * The answers to recent refresh-token rotations, in memory only, for the grace window.
 *
 * A client whose refresh response was lost (a dropped connection, a crash before it saved the new
 * tokens) retries with the token it still holds, which the rotation has just replaced. Minting
 * another pair for it would fork the grant into two live chains, and a thief replaying a stolen
 * token within the window would get a chain of its own. So a retry gets the very answer the
 * rotation gave, and concurrent refreshes with one token share one rotation (RFC 9700 §4.14.2:
 * one active refresh token per grant). The answers hold live tokens in clear, so they never reach
 * the disk: after a restart a retry within the window is refused rather than answered anew.
 */
export class RefreshGrace<T> {
  readonly #rotations = new Map<string, Rotation<T>>();

  constructor(private readonly graceMs: number) {}

  /**
   * The rotation `familyId` made from the token hashed `presentedHash`, still under way or done
   * within the grace window: its answer (the same tokens). Otherwise undefined.
   */
  find(familyId: string, presentedHash: string, now: number): Promise<T> | undefined {
    this.#prune(now);
    const rotation = this.#rotations.get(familyId);
    if (!rotation || !safeEqual(rotation.presentedHash, presentedHash)) return undefined;
    return rotation.answer;
  }

  /**
   * Records the rotation of `familyId` from `presentedHash`, answered by `answer`. A family has one
   * rotation here at a time: the next replaces it, and its token's retries are then reuse. A failed
   * rotation (nothing was saved) is forgotten, so the same token may be presented again.
   */
  start(familyId: string, presentedHash: string, now: number, answer: Promise<T>): Promise<T> {
    this.#prune(now);
    const rotation: Rotation<T> = { presentedHash, startedAt: now, answer, settled: false };
    this.#rotations.set(familyId, rotation);
    answer.then(
      () => {
        rotation.settled = true;
      },
      () => {
        if (this.#rotations.get(familyId) === rotation) this.#rotations.delete(familyId);
      },
    );
    return answer;
  }

  /** The family was revoked: its tokens are answered by nobody. */
  forget(familyId: string): void {
    this.#rotations.delete(familyId);
  }

  get size(): number {
    return this.#rotations.size;
  }

  /** Settled rotations past the window; one under way stays until it settles, whatever the time. */
  #prune(now: number): void {
    for (const [familyId, rotation] of this.#rotations) {
      if (rotation.settled && now - rotation.startedAt > this.graceMs) this.#rotations.delete(familyId);
    }
  }
}

interface Rotation<T> {
  presentedHash: string;
  startedAt: number;
  answer: Promise<T>;
  settled: boolean;
}
