import type { ScheduledEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fixedClock } from '../../domain/shared/clock';
import type { ScheduleDefinition } from '../../functions/schedules/schedules';
import type { LocalLogger } from '../../local/runtime-support';
import { startScheduler, type Scheduler } from '../../local/scheduler';

const minute = 60_000;
const definition = (name: string, rateMinutes: number): ScheduleDefinition => ({
  name,
  entry: 'unused',
  rateMinutes,
});

function recordingLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, message, fields });
  const logger: LocalLogger = { info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

/** A promise the test resolves by hand, to hold a run open. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('local scheduler (EventBridge rate schedules)', () => {
  let scheduler: Scheduler | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    await scheduler?.stop();
    scheduler = undefined;
    vi.useRealTimers();
  });

  it('invokes each handler every rateMinutes with a Scheduled Event', async () => {
    // Prepare
    const clock = fixedClock('2026-03-01T08:00:00.123Z');
    const events: ScheduledEvent[] = [];
    const hourly: ScheduledEvent[] = [];
    scheduler = startScheduler({
      clock,
      schedules: [
        { definition: definition('segment-recompute', 5), handler: async (event) => void events.push(event) },
        { definition: definition('hourly', 60), handler: async (event) => void hourly.push(event) },
      ],
      logger: recordingLogger().logger,
    });

    // Act
    await vi.advanceTimersByTimeAsync(4 * minute);
    const beforeFirstPeriod = events.length;
    await vi.advanceTimersByTimeAsync(1 * minute);
    clock.advance(5 * minute);
    await vi.advanceTimersByTimeAsync(5 * minute);

    // Assess
    expect(beforeFirstPeriod).toBe(0);
    expect(events).toHaveLength(2);
    expect(hourly).toHaveLength(0);
    expect(events[0]).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2026-03-01T08:00:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/segment-recompute'],
      detail: {},
    });
    expect(events[1]!.time).toBe('2026-03-01T08:05:00Z');
    expect(events[1]!.id).not.toBe(events[0]!.id);
  });

  it('never overlaps runs of one schedule: a firing during a run is skipped', async () => {
    const { logger, lines } = recordingLogger();
    const hold = gate();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    scheduler = startScheduler({
      logger,
      schedules: [
        {
          definition: definition('slow', 1),
          handler: async () => {
            runs++;
            running++;
            maxRunning = Math.max(maxRunning, running);
            if (runs === 1) await hold.opened;
            running--;
          },
        },
      ],
    });

    await vi.advanceTimersByTimeAsync(3 * minute); // fires at 1 (runs, held), 2 and 3 (skipped)
    hold.open();
    await vi.advanceTimersByTimeAsync(1 * minute); // fires at 4 (runs)

    expect(runs).toBe(2);
    expect(maxRunning).toBe(1);
    expect(lines.filter((line) => line.level === 'warn')).toHaveLength(2);
  });

  it('logs a failing run and keeps the schedule going', async () => {
    const { logger, lines } = recordingLogger();
    let calls = 0;
    scheduler = startScheduler({
      logger,
      schedules: [
        {
          definition: definition('flaky', 1),
          handler: async () => {
            calls++;
            if (calls === 1) throw new Error('boom');
          },
        },
      ],
    });

    await vi.advanceTimersByTimeAsync(2 * minute);

    expect(calls).toBe(2);
    const errors = lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.fields).toMatchObject({ schedule: 'flaky', error: new Error('boom') });
  });

  it('tick runs a schedule now and reports the outcome; ticks queue behind a run in progress', async () => {
    const hold = gate();
    const order: string[] = [];
    let calls = 0;
    scheduler = startScheduler({
      logger: recordingLogger().logger,
      schedules: [
        {
          definition: definition('manual', 60),
          handler: async () => {
            const call = ++calls;
            order.push(`start ${call}`);
            if (call === 1) await hold.opened;
            if (call === 3) throw new Error('third fails');
            order.push(`end ${call}`);
          },
        },
      ],
    });

    const first = scheduler.tick('manual');
    const second = scheduler.tick('manual');
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['start 1']);
    hold.open();

    expect(await first).toMatchObject({ name: 'manual', ok: true });
    expect(await second).toMatchObject({ ok: true });
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    const third = await scheduler.tick('manual');
    expect(third).toMatchObject({ ok: false, error: new Error('third fails') });
    expect(third.event['detail-type']).toBe('Scheduled Event');
  });

  it('rejects an unknown schedule, a bad rate, and ticks after stop', async () => {
    scheduler = startScheduler({
      schedules: [{ definition: definition('a', 1), handler: async () => undefined }],
    });

    await expect(scheduler.tick('b')).rejects.toThrow('Unknown schedule "b" (known: a)');
    expect(() =>
      startScheduler({ schedules: [{ definition: definition('z', 0), handler: async () => undefined }] }),
    ).toThrow('rateMinutes > 0');
    await scheduler.stop();
    await expect(scheduler.tick('a')).rejects.toThrow('stopped');
  });

  it('stop waits for a run in progress and fires nothing afterwards', async () => {
    const hold = gate();
    let calls = 0;
    let finished = false;
    scheduler = startScheduler({
      schedules: [
        {
          definition: definition('s', 1),
          handler: async () => {
            calls++;
            await hold.opened;
            finished = true;
          },
        },
      ],
    });
    await vi.advanceTimersByTimeAsync(minute);

    const stopped = scheduler.stop();
    hold.open();
    await stopped;
    await vi.advanceTimersByTimeAsync(10 * minute);

    expect(finished).toBe(true);
    expect(calls).toBe(1);
  });
});
