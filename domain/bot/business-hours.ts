import type { BotSettingsValues, Weekday } from './bot.schemas';

const formats = new Map<string, Intl.DateTimeFormat>();
const weekdayOf: Record<string, Weekday> = { Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun' };

/** The weekday and wall-clock time (HH:MM) of an instant in a time zone. */
export function wallClock(iso: string, timeZone: string): { day: Weekday; time: string } {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(iso)).map((part) => [part.type, part.value]));
  return { day: weekdayOf[parts.weekday ?? 'Mon'] ?? 'mon', time: `${parts.hour}:${parts.minute}` };
}

/** Whether the instant falls in one of the day's spans (`from` included, `to` excluded). */
export function withinBusinessHours(settings: Pick<BotSettingsValues, 'timeZone' | 'businessHours'>, iso: string): boolean {
  const { day, time } = wallClock(iso, settings.timeZone);
  return settings.businessHours[day].some((span) => span.from <= time && time < span.to);
}

/** Whether the bot answers at this instant, by `replyWhen` and the hours. */
export function botAnswersAt(settings: Pick<BotSettingsValues, 'timeZone' | 'businessHours' | 'replyWhen'>, iso: string): boolean {
  if (settings.replyWhen === 'always') return true;
  const open = withinBusinessHours(settings, iso);
  return settings.replyWhen === 'during_business_hours' ? open : !open;
}
