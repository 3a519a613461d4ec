// The process guard of the command-line tool: what must happen when a signal ends the process.
//
// - SIGINT, SIGTERM, SIGHUP (unless ignored when the process started; blocked ones are unblocked):
//   every registered temporary file is unlinked and the process exits
//   with 128 + the signal (130, 143, 129), so an interrupted write leaves nothing behind.
// - SIGBUS inside a registered file mapping (the file shrank while it was read): the temporary
//   files are unlinked, "error: FILE changed while it was being read [file-changed]" is written
//   to stderr and the process exits 2. A SIGBUS anywhere else is re-raised as usual.
//
// Registration happens outside signal context; the handlers only read the tables and call
// async-signal-safe functions (unlink, write, _exit).
#ifndef GHOST_GUARD_H
#define GHOST_GUARD_H

#include <stddef.h>

// Installs the handlers (once; later calls do nothing).
void gg_install(void);

// Registers a temporary file to remove on a fatal signal; returns a slot for gg_forget_temporary,
// or -1 when the table is full (the file is then not protected, which is harmless).
int gg_register_temporary(const char *path);
void gg_forget_temporary(int slot);

// Registers a read-only mapping of `path` at [base, base + count); returns a slot or -1.
int gg_register_mapping(const void *base, size_t count, const char *path);
void gg_forget_mapping(int slot);

#endif
