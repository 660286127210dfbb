// POST /v1/imports?type=customers|orders — a CSV or NDJSON file of customers or historical orders (at most
// 5 MB) imported through the ingest pipeline for the write key's source; the answer is the import report.
import { header } from '../../lib/http/body.js';
import { withHttp } from '../../lib/http/withHttp.js';
import { ImportQuery, MAX_UPLOAD_BYTES } from '../../lib/imports/model.js';
import { importUpload, UPLOAD_TOO_LARGE_HINT } from '../../lib/imports/upload.js';
import { importDeps } from '../../lib/runtime.js';

export const handler = withHttp(
  {
    auth: 'write',
    maxBodyBytes: MAX_UPLOAD_BYTES,
    rawBody: true,
    tooLargeHint: UPLOAD_TOO_LARGE_HINT,
    query: ImportQuery,
  },
  ({ event, body, query, key }) =>
    importUpload(
      {
        query,
        contentType: header(event, 'content-type'),
        text: typeof body === 'string' ? body : '',
        sourceId: key.sourceId,
      },
      importDeps(),
    ),
);
