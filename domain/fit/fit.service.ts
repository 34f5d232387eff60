import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import { toSearchHit, type ContactItem } from '../contacts/contact-record';
import type { ContactSearchHit } from '../contacts/contacts.schemas';
import { assignOwner, changeContact } from '../contacts/contacts.service';
import { planNewDeal } from '../deals/deals.service';
import { dealChangeOps } from '../deals/deal-write';
import { createJob } from '../jobs/jobs.service';
import { requireManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { DomainError, invalid, lostRace, notFound, stale } from '../shared/errors';
import { checkCursor, type Page } from '../shared/pagination';
import { retryLostRaces } from '../shared/retry';
import type { TxEntities } from '../store/db';
import { writeTransaction } from '../store/transaction';
import { fieldsOfRule, validateRule } from '../segments/segment-rules';
import { ruleCatalogue } from '../segments/segments.service';
import type { AssessmentSource, ReviewStatus } from './fit.entity';
import type {
  AssessInput,
  Assessment,
  ContactFit,
  CreateProductInput,
  CriterionInput,
  Lead,
  ListLeadsQuery,
  Product,
  Review,
  ReviewInput,
  UpdateProductInput,
} from './fit.schemas';
import { fitScoreOf, rankOf, type LatestAssessment } from './fit-score';

export interface ProductItem {
  workspaceId: string;
  productId: string;
  name: string;
  description?: string;
  criteria: CriterionInput[];
  createdBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ContactFitItem {
  workspaceId: string;
  contactId: string;
  productId: string;
  latest: Record<string, LatestAssessment>;
  score: number;
  coverage: number;
  rank: string;
  reviewStatus: ReviewStatus;
  review?: Review;
  summary: ContactSearchHit;
  version: number;
  updatedAt: string;
}

const productRef = (productId: string) => ({ type: 'product' as const, id: productId });

export function toProduct(item: ProductItem): Product {
  return {
    id: item.productId,
    name: item.name,
    description: item.description ?? null,
    criteria: item.criteria.map((criterion) => ({
      id: criterion.id,
      name: criterion.name,
      weight: criterion.weight,
      kind: criterion.kind,
      rules: criterion.rules ?? null,
      otherwise: criterion.otherwise ?? null,
    })),
    createdBy: item.createdBy,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version,
  };
}

const toAssessment = (productId: string, latest: LatestAssessment & { criterionId: string }): Assessment => ({
  id: latest.assessmentId,
  productId,
  criterionId: latest.criterionId,
  value: latest.value,
  evidence: latest.evidence ?? null,
  source: latest.source,
  userId: latest.userId,
  createdAt: latest.at,
});

export function toContactFit(product: ProductItem, item: ContactFitItem): ContactFit {
  return {
    productId: item.productId,
    contactId: item.contactId,
    score: item.score,
    coverage: item.coverage,
    criteria: product.criteria.map((criterion) => {
      const latest = item.latest[criterion.id];
      return { criterionId: criterion.id, name: criterion.name, weight: criterion.weight, latest: latest ? toAssessment(item.productId, { ...latest, criterionId: criterion.id }) : null };
    }),
    reviewStatus: item.reviewStatus,
    review: item.review ?? null,
    updatedAt: item.updatedAt,
    version: item.version,
  };
}

export async function findProduct(deps: CoreDeps, workspaceId: string, productId: string, consistent = false): Promise<ProductItem | undefined> {
  const { data } = await deps.db.entities.product.get({ workspaceId, productId }).go({ consistent });
  return (data as ProductItem | null) ?? undefined;
}

async function readProduct(deps: CoreDeps, caller: CallerContext, productId: string, consistent = false): Promise<ProductItem> {
  const item = await findProduct(deps, caller.workspaceId, productId, consistent);
  if (!item) throw notFound('Product');
  return item;
}

/** Every product of the workspace: one Query. */
export async function readProducts(deps: CoreDeps, workspaceId: string): Promise<ProductItem[]> {
  const { data } = await deps.db.entities.product.query.byWorkspace({ workspaceId }).go({ pages: 'all' });
  return data as ProductItem[];
}

// ---------------------------------------------------------------------------------------------
// Products

const hasRuleCriteria = (product: ProductItem) => product.criteria.some((criterion) => criterion.kind === 'rule');

/** Rule criteria speak the segment rule language, without fit scores (a criterion reading a fit score would feed on itself). */
async function assertValidCriteria(deps: CoreDeps, workspaceId: string, criteria: readonly CriterionInput[]): Promise<void> {
  const catalogue = await ruleCatalogue(deps, workspaceId);
  const fields: { field: string; message: string }[] = [];
  criteria.forEach((criterion, c) => {
    criterion.rules?.forEach(({ when }, r) => {
      const base = `body.criteria.${c}.rules.${r}.when`;
      for (const problem of validateRule(when, catalogue)) fields.push({ field: problem.path === '(rule)' ? base : `${base}.${problem.path}`, message: problem.message });
      if ([...fieldsOfRule(when)].some((field) => field.startsWith('fitScore.'))) fields.push({ field: base, message: 'A criterion’s rule cannot read fit scores' });
    });
  });
  if (fields.length > 0) throw new DomainError('validation_failed', 'A criterion’s rule is invalid', { fields });
}

export async function listProducts(deps: CoreDeps, caller: CallerContext): Promise<{ items: Product[] }> {
  return { items: (await readProducts(deps, caller.workspaceId)).map(toProduct) };
}

export async function getProduct(deps: CoreDeps, caller: CallerContext, productId: string): Promise<Product> {
  return toProduct(await readProduct(deps, caller, productId));
}

/** A product with its fit criteria (owner/admin). Its rule criteria are applied to every contact by a job. */
export async function createProduct(deps: CoreDeps, caller: CallerContext, input: CreateProductInput): Promise<Product> {
  requireManager(caller, 'create products');
  await assertValidCriteria(deps, caller.workspaceId, input.criteria);
  const now = deps.clock.nowIso();
  const item: ProductItem = {
    workspaceId: caller.workspaceId,
    productId: deps.newId('prd'),
    name: input.name,
    ...(input.description ? { description: input.description } : {}),
    criteria: input.criteria,
    createdBy: caller.userId,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const event = newEvent(deps, caller, 'product.created', productRef(item.productId), { name: item.name, criteria: item.criteria.length });
  const ops = (tx: TxEntities) => [tx.product.create(item).commit(), appendEvent(tx, event)];
  if (hasRuleCriteria(item)) await createJob(deps, caller, { kind: 'apply_fit_rules', input: { productId: item.productId, version: item.version } }, ops);
  else await writeTransaction(deps.db, ops, () => lostRace('The product'));
  return toProduct(item);
}

/** Changes a product's name, description or criteria (owner/admin; If-Match). Scores follow at the contacts' next assessment. */
export async function updateProduct(
  deps: CoreDeps,
  caller: CallerContext,
  productId: string,
  input: UpdateProductInput,
  expectedVersion?: number,
): Promise<Product> {
  requireManager(caller, 'change products');
  if (input.criteria) await assertValidCriteria(deps, caller.workspaceId, input.criteria);
  return retryLostRaces(async () => {
    const item = await readProduct(deps, caller, productId, true);
    if (expectedVersion !== undefined && expectedVersion !== item.version) throw stale();
    const after: ProductItem = { ...item, version: item.version + 1, updatedAt: deps.clock.nowIso() };
    if (input.name !== undefined) after.name = input.name;
    if (input.description !== undefined) {
      if (input.description === null || input.description === '') delete after.description;
      else after.description = input.description;
    }
    if (input.criteria) after.criteria = input.criteria;
    const event = newEvent(deps, caller, 'product.updated', productRef(productId), { name: after.name, criteria: after.criteria.length });
    const ops = (tx: TxEntities) => [
      tx.product
        .put(after)
        .where((attr, { eq }) => eq(attr.version, item.version))
        .commit(),
      appendEvent(tx, event),
    ];
    // New or changed rules reach every contact through a job.
    const rulesChanged = input.criteria !== undefined && JSON.stringify(item.criteria.filter((c) => c.kind === 'rule')) !== JSON.stringify(after.criteria.filter((c) => c.kind === 'rule'));
    if (rulesChanged && hasRuleCriteria(after)) {
      await createJob(deps, caller, { kind: 'apply_fit_rules', input: { productId, version: after.version } }, ops);
    } else {
      await writeTransaction(deps.db, ops, () => lostRace('The product'));
    }
    return toProduct(after);
  });
}

// ---------------------------------------------------------------------------------------------
// Assessments

export async function readContactFit(deps: CoreDeps, workspaceId: string, contactId: string, productId: string): Promise<ContactFitItem | undefined> {
  const { data } = await deps.db.entities.contactFit.get({ workspaceId, contactId, productId }).go({ consistent: true });
  return (data as ContactFitItem | null) ?? undefined;
}

/** One assessment to record: the contact, the product and criterion, its value and where it comes from. */
export interface NewAssessment {
  criterionId: string;
  value: number;
  evidence?: string;
  source: AssessmentSource;
}

/**
 * Records assessments of a contact for a product and recomputes its fit score, in one transaction with
 * the contact (its `fitScores`, which segment rules read) on its version: the assessments (history),
 * the contact's fit item (conditional on the version read; created `pending` for review) and the
 * events. Returns the fit.
 */
export async function recordAssessments(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  product: ProductItem,
  assessments: readonly NewAssessment[],
  options: { authorise?: (contact: ContactItem) => void } = {},
): Promise<ContactFitItem> {
  return retryLostRaces(async () => {
    const current = await readContactFit(deps, caller.workspaceId, contactId, product.productId);
    let written: ContactFitItem | undefined;
    // The assessments and the fit item are built once the contact is read (in `change`); their slots in
    // the contact's transaction are fixed up front: one per assessment, then the fit item.
    let built: ((tx: TxEntities) => unknown)[] = [];
    const extraOps = [...assessments.map((_, index) => (tx: TxEntities) => built[index]!(tx)), (tx: TxEntities) => built[assessments.length]!(tx)];
    await changeContact(
      deps,
      caller,
      contactId,
      (before, now) => {
        const latest = { ...(current?.latest ?? {}) };
        const items = assessments.map((assessment) => {
          const assessmentId = deps.newId('fa');
          latest[assessment.criterionId] = {
            assessmentId,
            value: assessment.value,
            source: assessment.source,
            userId: caller.userId,
            at: now,
            ...(assessment.evidence ? { evidence: assessment.evidence } : {}),
          };
          return {
            workspaceId: caller.workspaceId,
            contactId,
            productId: product.productId,
            assessmentId,
            criterionId: assessment.criterionId,
            value: assessment.value,
            ...(assessment.evidence ? { evidence: assessment.evidence } : {}),
            source: assessment.source,
            userId: caller.userId,
            createdAt: now,
          };
        });
        const { score, coverage } = fitScoreOf(product.criteria, latest);
        written = {
          workspaceId: caller.workspaceId,
          contactId,
          productId: product.productId,
          latest,
          score,
          coverage,
          rank: rankOf(score),
          reviewStatus: current?.reviewStatus ?? 'pending',
          ...(current?.review ? { review: current.review } : {}),
          summary: toSearchHit(before),
          version: (current?.version ?? 0) + 1,
          updatedAt: now,
        };
        const events: EventRecord[] = assessments.map((assessment) =>
          newEvent(
            deps,
            caller,
            'fit.assessed',
            { type: 'contact', id: contactId },
            { productId: product.productId, criterionId: assessment.criterionId, value: assessment.value, source: assessment.source, score },
          ),
        );
        built = [
          ...items.map((item) => (tx: TxEntities) => tx.fitAssessment.create(item).commit()),
          (tx: TxEntities) =>
            current
              ? tx.contactFit
                  .put(written!)
                  .where((attr, { eq }) => eq(attr.version, current.version))
                  .commit()
              : tx.contactFit.create(written!).commit(),
        ];
        return { after: { ...before, fitScores: { ...(before.fitScores ?? {}), [product.productId]: score } }, events };
      },
      { ...(options.authorise ? { authorise: options.authorise } : {}), extraOps },
    );
    return written!;
  });
}

/** A user's assessment of one criterion (any kind: a user's value overrides a rule's or the AI's, history kept). */
export async function assessContact(deps: CoreDeps, caller: CallerContext, contactId: string, productId: string, input: AssessInput): Promise<ContactFit> {
  const product = await readProduct(deps, caller, productId);
  if (!product.criteria.some((criterion) => criterion.id === input.criterionId)) throw invalid('body.criterionId', 'The product has no criterion with this id');
  const fit = await recordAssessments(deps, caller, contactId, product, [{ ...input, source: 'user' }]);
  return toContactFit(product, fit);
}

export async function getContactFit(deps: CoreDeps, caller: CallerContext, contactId: string, productId: string): Promise<ContactFit> {
  const [product, fit, contact] = await Promise.all([
    readProduct(deps, caller, productId),
    readContactFit(deps, caller.workspaceId, contactId, productId),
    deps.db.entities.contact.get({ workspaceId: caller.workspaceId, contactId }).go(),
  ]);
  if (!contact.data) throw notFound('Contact');
  if (!fit) throw notFound('Fit (no assessment yet)');
  return toContactFit(product, fit);
}

/** A contact's assessments for a product, newest first (one Query of its partition). */
export async function listAssessments(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  productId: string,
  query: { limit: number; cursor?: string },
): Promise<Page<Assessment>> {
  const [product, contact, page] = await Promise.all([
    findProduct(deps, caller.workspaceId, productId),
    deps.db.entities.contact.get({ workspaceId: caller.workspaceId, contactId }).go(),
    deps.db.entities.fitAssessment.query
      .byContact({ workspaceId: caller.workspaceId, contactId, productId })
      .go({ order: 'desc', limit: query.limit, cursor: checkCursor(caller.workspaceId, query.cursor) ?? null }),
  ]);
  if (!product) throw notFound('Product');
  if (!contact.data) throw notFound('Contact');
  type Stored = { assessmentId: string; criterionId: string; value: number; evidence?: string; source: AssessmentSource; userId: string; createdAt: string };
  return {
    items: (page.data as Stored[]).map((item) => ({
      id: item.assessmentId,
      productId,
      criterionId: item.criterionId,
      value: item.value,
      evidence: item.evidence ?? null,
      source: item.source,
      userId: item.userId,
      createdAt: item.createdAt,
    })),
    nextCursor: page.cursor ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Leads

/**
 * A product's leads, best fit first, all or of one review status: one Query per page. Fit items exist
 * only for a product's contacts (products are never deleted), so a page with leads vouches for the
 * product; only an empty page reads the product, to tell an unknown product (404) from no leads yet.
 */
export async function listLeads(deps: CoreDeps, caller: CallerContext, productId: string, query: ListLeadsQuery): Promise<Page<Lead>> {
  const cursor = checkCursor(caller.workspaceId, query.cursor) ?? null;
  const key = { workspaceId: caller.workspaceId, productId };
  const page = query.reviewStatus
    ? await deps.db.entities.contactFit.query.byStatus({ ...key, reviewStatus: query.reviewStatus }).go({ limit: query.limit, cursor })
    : await deps.db.entities.contactFit.query.byProduct(key).go({ limit: query.limit, cursor });
  if (page.data.length === 0 && !(await findProduct(deps, caller.workspaceId, productId))) throw notFound('Product');
  return {
    items: (page.data as ContactFitItem[]).map((item) => ({
      contact: item.summary,
      score: item.score,
      coverage: item.coverage,
      reviewStatus: item.reviewStatus,
      updatedAt: item.updatedAt,
    })),
    nextCursor: page.cursor ?? null,
  };
}

/**
 * Reviews a lead (owner/admin): `accepted` / `rejected` / back to `pending`, with a reason; the review
 * history keeps each. Accepting may give the contact an owner and create a deal (done first, so the
 * review names them). A contact with no assessment for the product has no lead to review (404).
 */
export async function reviewLead(deps: CoreDeps, caller: CallerContext, productId: string, contactId: string, input: ReviewInput): Promise<ContactFit> {
  requireManager(caller, 'review leads');
  const product = await readProduct(deps, caller, productId);
  if (!(await readContactFit(deps, caller.workspaceId, contactId, productId))) throw notFound('Lead');
  // The deal is planned (checked) before anything is written and created in the review's own
  // transaction: a review that fails leaves no deal behind. The owner comes first: setting it again
  // is harmless when the request is retried.
  const planned = input.deal ? await planReviewDeal(deps, caller, contactId, input.deal, input.ownerId) : undefined;
  if (input.ownerId) await assignOwner(deps, caller, contactId, input.ownerId);
  const deal = planned ? { id: planned.item.dealId } : undefined;
  return retryLostRaces(async () => {
    const current = await readContactFit(deps, caller.workspaceId, contactId, productId);
    if (!current) throw notFound('Lead');
    const at = deps.clock.nowIso();
    const review: Review = {
      status: input.status,
      reason: input.reason ?? null,
      userId: caller.userId,
      ownerId: input.ownerId ?? null,
      dealId: deal?.id ?? null,
      at,
    };
    const after: ContactFitItem = { ...current, reviewStatus: input.status, review, version: current.version + 1, updatedAt: at };
    const reviewItem = {
      workspaceId: caller.workspaceId,
      contactId,
      productId,
      reviewId: deps.newId('rv'),
      status: input.status,
      ...(input.reason ? { reason: input.reason } : {}),
      userId: caller.userId,
      ...(input.ownerId ? { ownerId: input.ownerId } : {}),
      ...(deal ? { dealId: deal.id } : {}),
      createdAt: at,
    };
    const event = newEvent(deps, caller, 'lead.reviewed', { type: 'contact', id: contactId }, {
      productId,
      status: input.status,
      previous: current.reviewStatus,
      reason: input.reason ?? null,
      dealId: deal?.id ?? null,
    });
    await writeTransaction(
      deps.db,
      (tx) => [
        tx.contactFit
          .put(after)
          .where((attr, { eq }) => eq(attr.version, current.version))
          .commit(),
        tx.leadReview.create(reviewItem).commit(),
        appendEvent(tx, event),
        ...(planned ? dealChangeOps(undefined, planned.item, planned.events).map(({ op }) => op(tx)) : []),
      ],
      () => lostRace('The lead'),
    );
    return toContactFit(product, after);
  });
}

/**
 * The deal a review creates, checked now, owned by whom the review gives the contact (the lead is
 * theirs to work); its field errors name `body.deal.*`, the owner's `body.ownerId`.
 */
async function planReviewDeal(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  deal: NonNullable<ReviewInput['deal']>,
  ownerId: string | undefined,
) {
  try {
    return await planNewDeal(deps, caller, {
      title: deal.title,
      contactId,
      ...(ownerId ? { ownerId } : {}),
      ...(deal.pipelineId ? { pipelineId: deal.pipelineId } : {}),
      ...(deal.value !== undefined ? { value: deal.value } : {}),
      ...(deal.currency ? { currency: deal.currency } : {}),
    });
  } catch (error) {
    if (error instanceof DomainError && error.details.fields) {
      error.details.fields = error.details.fields.map((issue) => ({ ...issue, field: issue.field === 'body.ownerId' ? issue.field : issue.field.replace(/^body\./, 'body.deal.') }));
    }
    throw error;
  }
}

/** A lead's reviews for a product, newest first. */
export async function listReviews(deps: CoreDeps, caller: CallerContext, productId: string, contactId: string): Promise<{ items: Review[] }> {
  const [product, contact, page] = await Promise.all([
    findProduct(deps, caller.workspaceId, productId),
    deps.db.entities.contact.get({ workspaceId: caller.workspaceId, contactId }).go(),
    deps.db.entities.leadReview.query.byContact({ workspaceId: caller.workspaceId, contactId, productId }).go({ order: 'desc', pages: 'all' }),
  ]);
  if (!product) throw notFound('Product');
  if (!contact.data) throw notFound('Contact');
  type Stored = { status: ReviewStatus; reason?: string; userId: string; ownerId?: string; dealId?: string; createdAt: string };
  return {
    items: (page.data as Stored[]).map((item) => ({
      status: item.status,
      reason: item.reason ?? null,
      userId: item.userId,
      ownerId: item.ownerId ?? null,
      dealId: item.dealId ?? null,
      at: item.createdAt,
    })),
  };
}
