import { app } from "@azure/functions";
import { openApiRoute } from "../core/httpRoutes";
import { openApiDocument } from "../core/openApiDocument";
import { jsonRoute } from "./shared/http";

/** GET /api/openapi.json: the OpenAPI 3.1 document of this API, built from the schemas the routes parse with. Read right, like status. */
app.http(
  "http_openapi",
  jsonRoute(openApiRoute, async () => ({ jsonBody: openApiDocument() })),
);
