import type { AssessmentSource } from './fit.entity';

/** The latest assessment of one criterion, as a contact's fit item keeps it. */
export interface LatestAssessment {
  assessmentId: string;
  value: number;
  source: AssessmentSource;
  userId: string;
  at: string;
  evidence?: string;
}

/**
 * A contact's fit score for a product: the weighted mean of the latest value (1–5) of each criterion
 * assessed, on 0–100 (1 → 0, 5 → 100); criteria not assessed count in `coverage` (the assessed share
 * of the weight), not in the score, so a contact is not ranked down for what nobody assessed yet.
 * Criteria removed from the product no longer count.
 */
export function fitScoreOf(criteria: readonly { id: string; weight: number }[], latest: Readonly<Record<string, LatestAssessment>>): { score: number; coverage: number } {
  let weighted = 0;
  let assessedWeight = 0;
  let totalWeight = 0;
  for (const criterion of criteria) {
    totalWeight += criterion.weight;
    const assessment = latest[criterion.id];
    if (!assessment) continue;
    assessedWeight += criterion.weight;
    weighted += criterion.weight * ((assessment.value - 1) / 4);
  }
  if (assessedWeight === 0) return { score: 0, coverage: 0 };
  return { score: Math.round((100 * weighted) / assessedWeight), coverage: Math.round((1000 * assessedWeight) / totalWeight) / 1000 };
}

/** The lead index's sort key: best score first in ascending key order (1000 − score, zero-padded). */
export const rankOf = (score: number) => String(1000 - score).padStart(4, '0');
