/** Edgehog Commands (io.edgehog.devicemanager.Commands `/request`, e.g. "Reboot"): one application handler that may refuse. */

import type { EdgehogPort } from "./port.js";

/** What a command handler returns to refuse: the reason is reported in a "command-refused" warning. */
export interface CommandRefusal {
  /** Why the command is refused, e.g. "an update is being written". */
  refuse: string;
}

/**
 * Handles an Edgehog command ("Reboot" is the one Edgehog sends). Return (or resolve) nothing to accept it, or
 * `{ refuse: reason }` to refuse; a handler that throws refuses with its error's message.
 */
export type CommandHandler = (command: string) => void | CommandRefusal | Promise<void | CommandRefusal>;

/** Runs the handler for `command` and reports a refusal as a "command-refused" warning. */
export async function runCommand(port: EdgehogPort, handler: CommandHandler, command: string): Promise<void> {
  let reason: string | undefined;
  try {
    const result = await handler(command);
    if (result && typeof result === "object" && "refuse" in result) reason = String(result.refuse);
  } catch (err) {
    reason = err instanceof Error ? err.message : String(err);
  }
  if (reason !== undefined) port.warn("command-refused", `${command} refused: ${reason}`);
}
