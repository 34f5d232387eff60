/**
 * Posts the sandbox's webhooks: a send's status callbacks one after another (in order, or shuffled when
 * asked), each repeated or dropped as the behaviour says, with `delayMs` between them; inbound webhooks
 * at once. A non-2xx answer or a failed POST is retried a few times with short waits, as providers retry
 * (Meta and Twilio retry failed webhooks; SNS retries HTTP deliveries). At most `concurrency` POSTs are
 * in flight. `flush()` cuts every wait short and resolves once nothing is pending.
 */
import type { SandboxCallback, SandboxState } from './state';

interface Job {
  generation: number;
  callbacks: SandboxCallback[];
  done: Promise<void>;
}

export class Dispatcher {
  private readonly jobs = new Set<Job>();
  private readonly sleepers = new Set<() => void>();
  private flushing = 0;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private stopped = false;
  /** Bumped by `cancel()`: jobs of an earlier generation post nothing more. */
  private generation = 0;

  constructor(private readonly state: SandboxState) {}

  /**
   * Posts `callbacks` in order, each after `delayMs` (none when `immediate`). Drops and repeats are
   * decided here, so every callback the sandbox meant to send is recorded, posted or not.
   */
  schedule(
    callbacks: SandboxCallback[],
    options: { immediate?: boolean; dropAll?: boolean; plain?: boolean } = {},
  ): Promise<void> {
    if (options.plain) return this.start(callbacks, true);
    const { behaviour } = this.state;
    let ordered = callbacks;
    if (behaviour.shuffle && ordered.length > 1) ordered = shuffled(ordered, this.state.behaviourRandom);
    for (const callback of ordered) {
      if (options.dropAll || (behaviour.dropRate > 0 && this.state.behaviourRandom() < behaviour.dropRate)) {
        callback.state = 'dropped';
      }
    }
    const posted: SandboxCallback[] = [];
    for (const callback of ordered) {
      if (callback.state === 'dropped') continue;
      posted.push(callback);
      // A repeat is the same webhook again: the same body, headers and provider ids.
      for (let i = 1; i < behaviour.repeat; i++) {
        const { id: _id, state: _state, attempts: _attempts, ...rest } = callback;
        posted.push(this.state.newCallback(rest));
      }
    }
    return this.start(posted, options.immediate ?? false);
  }

  private start(callbacks: SandboxCallback[], immediate: boolean): Promise<void> {
    const job: Job = { generation: this.generation, callbacks, done: Promise.resolve() };
    job.done = this.run(job, immediate).finally(() => this.jobs.delete(job));
    this.jobs.add(job);
    return job.done;
  }

  /** Posts everything pending now and resolves when no job is left (jobs added meanwhile included). */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      for (const wake of this.sleepers) wake();
      while (this.jobs.size > 0) await Promise.all([...this.jobs].map((job) => job.done));
    } finally {
      this.flushing--;
    }
  }

  /** Forgets every pending callback (a reset): nothing scheduled so far is posted any more. */
  cancel() {
    this.generation++;
    for (const wake of this.sleepers) wake();
  }

  /** Stops waiting and posting; pending callbacks stay `pending`. */
  stop() {
    this.stopped = true;
    for (const wake of this.sleepers) wake();
  }

  get pending(): number {
    return this.jobs.size;
  }

  private async run(job: Job, immediate: boolean) {
    for (const callback of job.callbacks) {
      if (!immediate) await this.sleep(this.state.behaviour.delayMs);
      if (this.stopped || job.generation !== this.generation) return;
      await this.deliver(callback);
    }
  }

  private async deliver(callback: SandboxCallback) {
    const { callbackRetries, callbackRetryDelayMs } = this.state.behaviour;
    for (let attempt = 0; attempt <= callbackRetries; attempt++) {
      if (attempt > 0) await this.sleep(callbackRetryDelayMs * 2 ** (attempt - 1), true);
      if (this.stopped) return;
      const ok = await this.post(callback);
      if (ok) {
        callback.state = 'delivered';
        return;
      }
    }
    callback.state = 'failed';
  }

  private async post(callback: SandboxCallback): Promise<boolean> {
    await this.acquire();
    const started = performance.now();
    try {
      const response = await fetch(callback.url, {
        method: 'POST',
        headers: callback.headers,
        body: callback.body,
        signal: AbortSignal.timeout(this.state.behaviour.callbackTimeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      callback.attempts.push({
        at: new Date().toISOString(),
        status: response.status,
        error: null,
        ms: Math.round(performance.now() - started),
      });
      return response.status >= 200 && response.status < 300;
    } catch (error) {
      callback.attempts.push({
        at: new Date().toISOString(),
        status: null,
        error: (error as Error).message,
        ms: Math.round(performance.now() - started),
      });
      return false;
    } finally {
      this.release();
    }
  }

  /** Waits `ms`, unless a flush is under way (then not at all) or one starts meanwhile. Retry waits are kept short during a flush, not skipped. */
  private sleep(ms: number, retry = false): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.flushing > 0)
      return retry ? new Promise((resolve) => setTimeout(resolve, Math.min(ms, 20))) : Promise.resolve();
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private acquire(): Promise<void> {
    if (this.inFlight < this.state.behaviour.concurrency) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release() {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }
}

const shuffled = <T>(items: T[], random: () => number): T[] => {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  // A shuffle that changed nothing is no test of out-of-order handling: reverse instead.
  return copy.every((item, i) => item === items[i]) ? [...items].reverse() : copy;
};
