import { Duration } from 'aws-cdk-lib';
import { CorsHttpMethod, HttpApi, HttpMethod, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import {
  handlerEntry,
  handlerGroups,
  routeList,
  type HandlerGroup,
  type RouteDefinition,
} from '../../functions/http/routes';
import { docsAssetFiles } from '../../functions/http/docs-assets';
import {
  createAppFunction,
  pascalCase,
  type AppFunctionProps,
  type FunctionSettings,
} from './lambda-function';

export interface ApiProps {
  settings: FunctionSettings;
  /** Default-stage throttling for the whole API (requests per second, and burst). */
  throttle: { rateLimit: number; burstLimit: number };
  corsAllowedOrigins: string[];
  /** @default the route table of functions/http/routes.ts */
  routes?: readonly RouteDefinition[];
}

/** The group whose function answers the `$default` route: a problem+json 404 for unknown routes. */
export const fallbackGroup: HandlerGroup = 'meta';

/** How the function of a route group is built: its handler, and the files it reads at run time. */
export const httpFunctionProps = (group: HandlerGroup, settings: FunctionSettings): AppFunctionProps => ({
  entry: handlerEntry(group),
  settings,
  description: `HTTP API: ${group} routes`,
  // The reference page's renderer, served by the meta function from beside its handler.
  ...(group === 'meta' ? { files: docsAssetFiles } : {}),
});

/** The HTTP API: one route per entry of the route table, one function per handler group. */
export class Api extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly functions: ReadonlyMap<HandlerGroup, NodejsFunction>;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const routes = props.routes ?? routeList;

    const functions = new Map<HandlerGroup, NodejsFunction>();
    const integrations = new Map<HandlerGroup, HttpLambdaIntegration>();
    for (const group of handlerGroups) {
      const fn = createAppFunction(
        this,
        `${pascalCase(group)}Function`,
        httpFunctionProps(group, props.settings),
      );
      functions.set(group, fn);
      integrations.set(
        group,
        // One invoke permission per function for this API instead of one per route: a function's
        // resource policy is capped at 20 KB, which a group with dozens of routes would reach.
        new HttpLambdaIntegration(`${pascalCase(group)}Integration`, fn, { scopePermissionToRoute: false }),
      );
    }
    this.functions = functions;
    const integrationOf = (group: HandlerGroup) => {
      const integration = integrations.get(group);
      if (!integration) throw new Error(`Route table names handler group "${group}", which has no function`);
      return integration;
    };

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'CRM HTTP API',
      // A default stage cannot be given throttling through HttpApiProps: it is added below.
      createDefaultStage: false,
      defaultIntegration: integrationOf(fallbackGroup),
      corsPreflight: {
        allowOrigins: props.corsAllowedOrigins,
        allowMethods: [CorsHttpMethod.ANY],
        allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-match'],
        exposeHeaders: ['etag', 'location'],
        maxAge: Duration.hours(1),
      },
    });
    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
    });

    for (const route of routes) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: integrationOf(route.group),
      });
    }
  }

  /** Base URL of the API, with a trailing slash. */
  get url(): string {
    return this.stage.url;
  }
}
