import { randomUUID } from 'node:crypto';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { systemClock } from '../domain/shared/clock';
import type { Clock } from '../domain/shared/ports';
import type { ScheduleDefinition } from '../functions/schedules/schedules';
import { logger as defaultLogger } from '../functions/shared/logger';
import { invocationContext, type LocalLogger } from './runtime-support';

/**
 * The local stand-in for EventBridge rate schedules: each handler runs every `rateMinutes` (the first
 * run one period after start, as a new rule's first firing), with the `ScheduledEvent` EventBridge
 * sends. Runs of one schedule never overlap: a firing that finds the previous run still going is
 * skipped. A failing run is logged and the schedule carries on.
 */

export type ScheduledHandler = (event: ScheduledEvent, context: Context) => Promise<unknown>;

export interface SchedulerEntry {
  definition: ScheduleDefinition;
  handler: ScheduledHandler;
}

export interface SchedulerOptions {
  schedules: SchedulerEntry[];
  /** Stamps the event's `time` (timers are the platform's: use fake timers in tests). */
  clock?: Clock;
  logger?: LocalLogger;
  region?: string;
}

export interface ScheduleRun {
  name: string;
  event: ScheduledEvent;
  ok: boolean;
  error?: unknown;
}

export interface Scheduler {
  /** Clears the timers and waits for runs in progress. */
  stop(): Promise<void>;
  /**
   * Runs one schedule now (after its run in progress, if any), as if its rule fired. Resolves with the
   * outcome; a failing handler does not reject it.
   */
  tick(name: string): Promise<ScheduleRun>;
}

/** Lambda's maximum: scheduled handlers have no timeout of their own in the definition. */
const scheduledTimeoutSeconds = 900;

interface Slot {
  entry: SchedulerEntry;
  timer?: NodeJS.Timeout;
  running?: Promise<ScheduleRun>;
}

export function startScheduler(options: SchedulerOptions): Scheduler {
  const clock = options.clock ?? systemClock;
  const log: LocalLogger = options.logger ?? defaultLogger;
  const region = options.region ?? 'us-east-1';
  const slots = new Map<string, Slot>();
  let stopped = false;

  for (const entry of options.schedules) {
    const { name, rateMinutes } = entry.definition;
    if (slots.has(name)) throw new Error(`Schedule "${name}" is defined twice`);
    if (!(rateMinutes > 0)) throw new Error(`Schedule "${name}" needs rateMinutes > 0, got ${rateMinutes}`);
    slots.set(name, { entry });
  }

  const run = (slot: Slot): Promise<ScheduleRun> => {
    const { definition, handler } = slot.entry;
    const event = scheduledEvent(definition.name, clock.nowIso(), region);
    const promise = (async (): Promise<ScheduleRun> => {
      try {
        await handler(event, invocationContext(definition.name, scheduledTimeoutSeconds, region));
        return { name: definition.name, event, ok: true };
      } catch (error) {
        log.error('Scheduled handler failed', { schedule: definition.name, eventId: event.id, error });
        return { name: definition.name, event, ok: false, error };
      }
    })();
    slot.running = promise;
    void promise.finally(() => {
      if (slot.running === promise) slot.running = undefined;
    });
    return promise;
  };

  for (const slot of slots.values()) {
    const { name, rateMinutes } = slot.entry.definition;
    slot.timer = setInterval(() => {
      if (slot.running) {
        log.warn('Scheduled run skipped: the previous run is still going', { schedule: name });
        return;
      }
      void run(slot);
    }, rateMinutes * 60_000);
    // The runtime's servers keep the process alive; a forgotten scheduler should not.
    slot.timer.unref();
  }

  return {
    async stop() {
      stopped = true;
      for (const slot of slots.values()) clearInterval(slot.timer);
      await Promise.all([...slots.values()].map((slot) => slot.running));
    },

    async tick(name) {
      const slot = slots.get(name);
      if (!slot)
        throw new Error(`Unknown schedule "${name}" (known: ${[...slots.keys()].join(', ') || 'none'})`);
      while (slot.running) await slot.running;
      if (stopped) throw new Error('Scheduler is stopped');
      return run(slot);
    },
  };
}

/** The event an EventBridge rate rule delivers (times in whole seconds, as EventBridge writes them). */
export function scheduledEvent(ruleName: string, nowIso: string, region = 'us-east-1'): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: nowIso.replace(/\.\d+Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:000000000000:rule/${ruleName}`],
    detail: {},
  };
}
