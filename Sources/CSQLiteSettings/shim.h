#ifndef RECONCILE_CSQLITESETTINGS_SHIM_H
#define RECONCILE_CSQLITESETTINGS_SHIM_H

#include <sqlite3.h>

// sqlite3_config is variadic, which Swift cannot call: this wrapper can be.
// Turns off SQLite's memory statistics, which take a process-wide mutex on every allocation
// and free. Only valid before SQLite is first used in the process (else SQLITE_MISUSE, no effect).
static inline int reconcile_sqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
