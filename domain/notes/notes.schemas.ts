import * as z from 'zod';
import { recordId } from '../shared/ids';
import { anchorInput, anchorQuery, anchorSchema, type AnchorKind } from '../anchors/anchors';
import { pageQuerySchema } from '../shared/pagination';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

/** Seed 000: notes are "per customer / deal / company". */
export const noteAnchorKinds: readonly AnchorKind[] = ['contact', 'deal', 'company'];

export const maxNoteLength = 50_000;

const markdownText = z
  .string()
  .max(maxNoteLength)
  .refine((text) => text.trim().length > 0, 'Write something: the note is empty')
  .meta({ description: 'Markdown. Raw HTML is shown as text; links may be http(s) or mailto only' });

export const createNoteInput = z
  .object({ anchor: anchorInput(noteAnchorKinds, 'NoteAnchorInput'), markdown: markdownText })
  .meta({ id: 'CreateNoteInput' });
export type CreateNoteInput = z.infer<typeof createNoteInput>;

export const updateNoteInput = z.object({ markdown: markdownText }).meta({ id: 'UpdateNoteInput' });
export type UpdateNoteInput = z.infer<typeof updateNoteInput>;

export const noteIdParams = z.object({ noteId: recordId('note', 'a note') });

export const listNotesQuery = pageQuerySchema.extend(anchorQuery(noteAnchorKinds));
export type ListNotesQuery = z.infer<typeof listNotesQuery>;

export const noteSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      anchor: anchorSchema(),
      markdown: z.string(),
      html: z.string().meta({
        description:
          'The markdown rendered and sanitised: no script, no event handlers, links http(s)/mailto only with rel="noopener noreferrer nofollow"',
      }),
      authorId: z.string(),
      updatedBy: z.string().meta({ description: 'Who wrote the current text' }),
      revisions: z
        .number()
        .int()
        .meta({ description: 'How many times the text was edited (GET …/history lists the earlier texts)' }),
      version: z.number().int(),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'Note' }),
);
export type Note = ResponseOf<typeof noteSchema>;

export const noteRevisionSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      version: z.number().int().meta({ description: 'The note’s version while it held this text' }),
      markdown: z.string(),
      html: z.string(),
      writtenBy: z.string(),
      writtenAt: z.string(),
      replacedBy: z.string(),
      replacedAt: z.string(),
    })
    .meta({ id: 'NoteRevision' }),
);
export type NoteRevision = ResponseOf<typeof noteRevisionSchema>;
