import * as z from 'zod';

/**
 * DynamoDB stores a non-zero number only when its magnitude is at least 1e-130 (and below 1e126); a
 * write carrying one nearer zero fails as a whole. Inputs refuse such numbers up front, so the caller
 * gets a 400 naming the field instead of a 500, and nothing they sent is quietly rounded away.
 */
export const smallestStorableMagnitude = 1e-130;

/** Whether the table can hold `value` (0, or a magnitude in DynamoDB's range). */
export const isStorableNumber = (value: number): boolean => {
  const magnitude = Math.abs(value);
  return magnitude === 0 || (magnitude >= smallestStorableMagnitude && magnitude < 1e126);
};

export const unstorableNumberMessage = `Give 0 or a number at least ${smallestStorableMagnitude} away from 0: nearer ones cannot be stored`;

/** A fraction from 0 to 1 that the table can hold: 1e-200 is refused rather than failing the write. */
export const storableFraction = () =>
  z.number().min(0).max(1).refine(isStorableNumber, { message: unstorableNumberMessage });
