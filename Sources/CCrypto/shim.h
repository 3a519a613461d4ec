// OpenSSL libcrypto from the system (Debian: libssl-dev): SHA-256 of source models.
#include <openssl/evp.h>
