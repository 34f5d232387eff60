import { reanchorNotes } from '../notes/notes.service';
import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { WorkInProgress } from '../shared/errors';
import { reanchorTasks } from '../tasks/tasks.service';
import type { AnchorRef, MoveProgress } from './anchors';

/** The movers of every kind of record that hangs off an anchor, in the order a merge runs them. */
export const anchoredRecordMovers: {
  name: string;
  move(
    deps: CoreDeps,
    caller: CallerContext,
    from: AnchorRef,
    to: AnchorRef,
    budget: number,
  ): Promise<MoveProgress>;
}[] = [
  { name: 'notes', move: reanchorNotes },
  { name: 'tasks', move: reanchorTasks },
];

/**
 * How many notes and tasks one merge request moves at most. Tests lower it.
 */
export const anchoredMoveSettings = { recordsPerRequest: 500 };

/**
 * Moves the notes and tasks of every source to the target, for merges that run all their steps in
 * one request (contacts): at most `recordsPerRequest` records per request. When some are left it
 * stops (WorkInProgress: 202) asking to repeat the request; nothing else of the merge has been written then
 * (the steps run before the sources are archived), and the moves already done are not redone.
 */
export async function moveAnchoredRecords(
  deps: CoreDeps,
  caller: CallerContext,
  sources: AnchorRef[],
  target: AnchorRef,
): Promise<void> {
  let budget = anchoredMoveSettings.recordsPerRequest;
  let moved = 0;
  for (const source of sources) {
    for (const mover of anchoredRecordMovers) {
      const progress = await mover.move(deps, caller, source, target, budget);
      budget -= progress.processed;
      moved += progress.moved;
      if (!progress.done) {
        throw new WorkInProgress(
          `Moved ${moved} notes and tasks to the target; more are left: repeat the same request to go on`,
          { moved },
        );
      }
    }
  }
}
