import {
  createNote,
  deleteNote,
  getNote,
  listNoteHistory,
  listNotes,
  updateNote,
} from '../../domain/notes/notes.service';
import { createHttpHandler, RawResponse } from './http-handler';
import { notesRoutes } from './routes/notes.routes';

export const handler = createHttpHandler('notes', notesRoutes, {
  listNotes: ({ caller, query }, deps) => listNotes(deps, caller, query),
  createNote: ({ caller, body }, deps) => createNote(deps, caller, body),
  getNote: ({ caller, params }, deps) => getNote(deps, caller, params.noteId),
  updateNote: ({ caller, params, body, expectedVersion }, deps) =>
    updateNote(deps, caller, params.noteId, body, expectedVersion),
  deleteNote: async ({ caller, params, expectedVersion }, deps) => {
    await deleteNote(deps, caller, params.noteId, expectedVersion);
    return new RawResponse(204, '');
  },
  listNoteHistory: ({ caller, params, query }, deps) => listNoteHistory(deps, caller, params.noteId, query),
});
