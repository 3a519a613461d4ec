// See ghost_guard.h.
#include "ghost_guard.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { GG_TEMPORARIES = 256, GG_MAPPINGS = 1024, GG_PATH = 4096 };

// A slot is in use when its flag is set; its path is written before the flag is raised and
// cleared only after the flag is dropped, so a handler never reads a half-written path.
static struct {
    atomic_int used;
    char path[GG_PATH];
} temporaries[GG_TEMPORARIES];

static struct {
    atomic_int used;
    uintptr_t base;
    size_t count;
    char path[GG_PATH];
} mappings[GG_MAPPINGS];

static atomic_int installed;

static void remove_temporaries(void) {
    for (int i = 0; i < GG_TEMPORARIES; i++) {
        if (atomic_load(&temporaries[i].used) == 1) unlink(temporaries[i].path);
    }
}

static void write_text(const char *text) {
    size_t length = strlen(text);
    while (length > 0) {
        ssize_t written = write(STDERR_FILENO, text, length);
        if (written <= 0) return;
        text += written;
        length -= (size_t)written;
    }
}

static void on_termination(int signal_number) {
    remove_temporaries();
    _exit(128 + signal_number);
}

static void on_bus_error(int signal_number, siginfo_t *info, void *context) {
    (void)context;
    uintptr_t address = (uintptr_t)info->si_addr;
    for (int i = 0; i < GG_MAPPINGS; i++) {
        if (atomic_load(&mappings[i].used) != 1) continue;
        if (address >= mappings[i].base && address - mappings[i].base < mappings[i].count) {
            remove_temporaries();
            write_text("error: ");
            write_text(mappings[i].path);
            write_text(" changed (it shrank) while it was being read; nothing was written [file-changed]\n");
            _exit(2);
        }
    }
    // Not one of ours: the default action, as if no handler were installed.
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

void gg_install(void) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&installed, &expected, 1)) return;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    action.sa_handler = on_termination;
    sigset_t unblock;
    sigemptyset(&unblock);
    const int terminating[] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        // A signal the parent chose to ignore (nohup's SIGHUP) stays ignored.
        struct sigaction previous;
        if (sigaction(terminating[i], NULL, &previous) == 0 && previous.sa_handler == SIG_IGN) continue;
        sigaction(terminating[i], &action, NULL);
        // Some launchers start children with these blocked; the tool must still hear them.
        sigaddset(&unblock, terminating[i]);
    }
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
    struct sigaction bus;
    memset(&bus, 0, sizeof bus);
    sigemptyset(&bus.sa_mask);
    bus.sa_sigaction = on_bus_error;
    bus.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &bus, NULL);
}

static void copy_path(char *destination, const char *path) {
    size_t length = strlen(path);
    if (length >= GG_PATH) length = GG_PATH - 1;
    memcpy(destination, path, length);
    destination[length] = 0;
}

int gg_register_temporary(const char *path) {
    for (int i = 0; i < GG_TEMPORARIES; i++) {
        int expected = 0;
        // Claim with 2 ("being written"), publish with 1; the handler only acts on 1.
        if (atomic_compare_exchange_strong(&temporaries[i].used, &expected, 2)) {
            copy_path(temporaries[i].path, path);
            atomic_store(&temporaries[i].used, 1);
            return i;
        }
    }
    return -1;
}

void gg_forget_temporary(int slot) {
    if (slot >= 0 && slot < GG_TEMPORARIES) atomic_store(&temporaries[slot].used, 0);
}

int gg_register_mapping(const void *base, size_t count, const char *path) {
    for (int i = 0; i < GG_MAPPINGS; i++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&mappings[i].used, &expected, 2)) {
            mappings[i].base = (uintptr_t)base;
            mappings[i].count = count;
            copy_path(mappings[i].path, path);
            atomic_store(&mappings[i].used, 1);
            return i;
        }
    }
    return -1;
}

void gg_forget_mapping(int slot) {
    if (slot >= 0 && slot < GG_MAPPINGS) atomic_store(&mappings[slot].used, 0);
}

