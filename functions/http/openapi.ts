// GET /openapi.json — the API description, generated from the zod schemas.
import { withHttp } from '../../lib/http/withHttp.js';
import { openApiDocument } from '../../lib/openapi.js';

export const handler = withHttp({}, async () => ({ body: openApiDocument() }));
