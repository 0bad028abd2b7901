// JSON schema of every error answer: `{"error": {"status", "message", "field"?}}`.

export const errorSchema = {
  title: 'Error',
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['status', 'message'],
      properties: {
        status: { description: 'the HTTP status code, repeated', type: 'integer', minimum: 400, maximum: 599 },
        message: { description: 'what was wrong and what was expected', type: 'string', minLength: 1 },
        field: {
          description: 'JSON path of the offending value in the request body, e.g. grid[3][4], when there is one',
          type: 'string',
        },
      },
    },
  },
} as const;

export interface ErrorBody {
  error: { status: number; message: string; field?: string };
}
