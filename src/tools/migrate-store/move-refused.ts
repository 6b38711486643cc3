/**
 * The move was refused before anything was written to the target: the source is held by a live
 * server or is not a support database, or the target already holds sessions. The tool prints the
 * message on one line and exits with 1.
 */
export class MoveRefusedError extends Error {}
