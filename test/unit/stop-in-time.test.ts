import { describe, expect, it } from 'vitest';
import { stopInTime, type Stoppable } from '../../local/stop-in-time';

const part = (name: string, stop: () => Promise<void>, stopped: string[]): Stoppable => ({
  name,
  stop: async () => {
    await stop();
    stopped.push(name);
  },
});

describe('stopInTime (Ctrl-C under npm start)', () => {
  it('stops every part in order when each stops promptly', async () => {
    const stopped: string[] = [];
    const lines: string[] = [];
    const left = await stopInTime(
      ['gateway', 'queue runner', 'DynamoDB Local'].map((name) => part(name, async () => {}, stopped)),
      1_000,
      (line) => lines.push(line),
    );
    expect(left).toEqual([]);
    expect(stopped).toEqual(['gateway', 'queue runner', 'DynamoDB Local']);
    expect(lines).toEqual([]);
  });

  it('leaves a part stuck in a long job behind once the grace is spent, and still stops the ones after it', async () => {
    const stopped: string[] = [];
    const lines: string[] = [];
    const started = Date.now();
    const left = await stopInTime(
      [
        part('the queue runner', () => new Promise(() => {}), stopped),
        part('the SES emulator', async () => {}, stopped),
        part('DynamoDB Local', () => new Promise((resolve) => setTimeout(resolve, 50)), stopped),
      ],
      200,
      (line) => lines.push(line),
    );
    // The stuck part gets what is left of the grace, at least 3 s: not the job's 900 s.
    expect(Date.now() - started).toBeLessThan(4_500);
    expect(left).toEqual(['the queue runner']);
    expect(stopped).toEqual(['the SES emulator', 'DynamoDB Local']);
    expect(lines).toEqual([
      'the queue runner did not stop within 3.0 s; leaving its unfinished work for the next start',
    ]);
  });

  it('goes on past a part whose stop fails, saying which', async () => {
    const stopped: string[] = [];
    const lines: string[] = [];
    const left = await stopInTime(
      [
        part('the outbox writer', () => Promise.reject(new Error('disk full')), stopped),
        part('the gateway', async () => {}, stopped),
      ],
      1_000,
      (line) => lines.push(line),
    );
    expect(left).toEqual([]);
    expect(stopped).toEqual(['the gateway']);
    expect(lines).toEqual(['the outbox writer: stop failed: disk full']);
  });
});
