// zlib from the system (Debian: zlib1g-dev): crc32 for .gwt section checksums.
#include <zlib.h>
