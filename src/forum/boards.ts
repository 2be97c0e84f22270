// The boards themselves: the few documents the home page lists, kept in memory briefly
// like every forum list. Admins create, rename, reorder and archive them (admin routes).
import mongoose from 'mongoose';
import { isDuplicateKey } from '../db/errors.ts';
import { BoardModel, DEFAULT_BOARD_ID, DEFAULT_BOARD_SLUG, type Board } from './boards-model.ts';

export type BoardView = Board & { _id: mongoose.Types.ObjectId };

export class SlugTakenError extends Error {
  override name = 'SlugTakenError';
}

/** The default board exists from the first start on: posts sent without a board land there. */
export async function ensureDefaultBoard(): Promise<void> {
  try {
    await BoardModel.create({ _id: DEFAULT_BOARD_ID, slug: DEFAULT_BOARD_SLUG, order: 0 });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/** Every board, archived ones too, in their order. A small collection: read whole. */
export async function allBoards(): Promise<BoardView[]> {
  const boards = await BoardModel.find({}).lean<BoardView[]>().exec();
  return boards.sort((a, b) => a.order - b.order || a.createdAt.getTime() - b.createdAt.getTime());
}

export async function createBoard(input: { slug: string; name: string; description: string }): Promise<BoardView> {
  const boards = await allBoards();
  // The unique index says so on MongoDB; this says so on FerretDB too, and in a clear way.
  if (boards.some((b) => b.slug === input.slug)) throw new SlugTakenError(input.slug);
  const order = Math.max(0, ...boards.map((b) => b.order)) + 1;
  try {
    const created = await BoardModel.create({ _id: new mongoose.Types.ObjectId(), ...input, order });
    return created.toObject() as BoardView;
  } catch (err) {
    if (isDuplicateKey(err)) throw new SlugTakenError(input.slug);
    throw err;
  }
}

export async function updateBoard(
  id: string,
  change: Partial<Pick<Board, 'name' | 'description' | 'order' | 'archived'>>,
): Promise<boolean> {
  // The default board stays open: posts sent without a board must have somewhere to go.
  if (change.archived && id === DEFAULT_BOARD_ID.toString()) return false;
  const result = await BoardModel.updateOne({ _id: id }, { $set: change }).exec();
  return result.matchedCount === 1;
}

/** Swaps a board's place with its neighbour above (-1) or below (+1). */
export async function moveBoard(id: string, direction: -1 | 1): Promise<void> {
  const boards = await allBoards();
  const index = boards.findIndex((b) => b._id.toString() === id);
  const other = boards[index + direction];
  if (index < 0 || !other) return;
  // Renumbered whole: orders made by older code or racing creates may tie.
  const reordered = [...boards];
  [reordered[index], reordered[index + direction]] = [other, boards[index]!];
  for (const [i, board] of reordered.entries()) {
    if (board.order !== i) await BoardModel.updateOne({ _id: board._id }, { $set: { order: i } }).exec();
  }
}
