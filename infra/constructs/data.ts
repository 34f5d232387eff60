import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type ITable, ProjectionType, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  HttpMethods,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';
import { tableDefinition } from '../../domain/store/table-definition';
import { acknowledgeFinding, acknowledgedRules, findingResource } from '../nag';

/** Days the transfer bucket's access logs are kept. */
const accessLogDays = 90;

/** Key prefixes of the transfer bucket; the functions' S3 grants are scoped to them. */
export const transferPrefixes = { uploads: 'uploads/', exports: 'exports/' } as const;

export interface DataProps {
  /** Origins allowed to PUT/GET presigned URLs from a browser. */
  corsAllowedOrigins: string[];
  /** Days an uploaded import file or a produced export stays in the bucket. @default 7 */
  transferExpiryDays?: number;
  /** Refuse DeleteTable even outside CloudFormation (production). @default false */
  deletionProtection?: boolean;
}

/**
 * The item actions the app's code calls (ElectroDB's get, query, put, update, delete, batches and
 * transactions: TransactWriteItems is authorised item by item through these). No Scan: nothing reads the
 * whole table, and without it no function could read every workspace's items at once.
 */
const tableReadActions = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const tableWriteActions = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

/** What a function may do with the objects under one prefix of the transfer bucket. */
export interface ObjectAccess {
  /** GET and HEAD (s3:GetObject), with s3:ListBucket so that a missing key is a 404, not a 403. */
  read?: boolean;
  /** PUT, presigned PUTs and multipart uploads (s3:PutObject), and aborting them. */
  put?: boolean;
  delete?: boolean;
}

/** The single table, built from the same description the local runtime uses, and the transfer bucket. */
export class Data extends Construct {
  readonly table: Table;
  readonly bucket: Bucket;
  /** S3 server access logs of the transfer bucket: who put or fetched which file, through which URL. */
  readonly accessLogsBucket: Bucket;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    const string = (name: string) => ({ name, type: AttributeType.STRING });

    this.table = new Table(this, 'Table', {
      partitionKey: string(tableDefinition.partitionKey),
      sortKey: string(tableDefinition.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      stream: StreamViewType[tableDefinition.stream],
      timeToLiveAttribute: tableDefinition.timeToLiveAttribute,
      deletionProtection: props.deletionProtection ?? false,
      // The CRM's records: a stack deletion must never take them along.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of tableDefinition.globalIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: string(index.partitionKey),
        sortKey: string(index.sortKey),
        projectionType: ProjectionType.ALL,
      });
    }

    const expiry = Duration.days(props.transferExpiryDays ?? 7);
    this.accessLogsBucket = new Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Log delivery writes with SSE-S3 only.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(accessLogDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new Bucket(this, 'TransferBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'transfer/',
      lifecycleRules: [
        { id: 'expire-uploads', prefix: transferPrefixes.uploads, expiration: expiry },
        { id: 'expire-exports', prefix: transferPrefixes.exports, expiration: expiry },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      cors: [
        {
          // Browsers upload import files and download exports straight to/from S3 with presigned URLs.
          allowedMethods: [HttpMethods.PUT, HttpMethods.GET, HttpMethods.HEAD],
          allowedOrigins: props.corsAllowedOrigins,
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
          maxAge: 3000,
        },
      ],
      // Files expire within days; nothing here outlives its job, but do not delete a user's file by
      // accident during a stack replacement either.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

/**
 * Item reads (and writes) on the table and on each of its indexes by name: unlike `grantReadWriteData`,
 * no `index/*` wildcard, no Scan and no DescribeTable.
 */
export function grantTableItems(grantee: IGrantable, table: ITable, access: 'read' | 'readWrite'): void {
  const indexArns = tableDefinition.globalIndexes.map((index) => `${table.tableArn}/index/${index.indexName}`);
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: access === 'read' ? tableReadActions : [...tableReadActions, ...tableWriteActions],
      resources: [table.tableArn],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:Query'], resources: indexArns }));
}

/** The named S3 actions on the objects under `prefix` of the bucket only (see {@link ObjectAccess}). */
export function grantBucketObjects(grantee: IGrantable, bucket: IBucket, prefix: string, access: ObjectAccess): void {
  const actions = [
    ...(access.read ? ['s3:GetObject'] : []),
    ...(access.put ? ['s3:PutObject', 's3:AbortMultipartUpload'] : []),
    ...(access.delete ? ['s3:DeleteObject'] : []),
  ];
  if (actions.length === 0) return;
  grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources: [bucket.arnForObjects(`${prefix}*`)] }));
  acknowledgeFinding(grantee.grantPrincipal as unknown as IConstruct, acknowledgedRules.objectPrefixes, findingResource(bucket, bucket.arnForObjects(`${prefix}*`)));
  if (access.read) {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
  }
}
