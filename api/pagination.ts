import { z } from 'zod';

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('page size, 1 to 200'),
  offset: z.coerce.number().int().min(0).default(0).describe('rows to skip'),
});
