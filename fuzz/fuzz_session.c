/*
 * libFuzzer target for session tokens and keyring files.  Inputs starting
 * with 'K' are keyring text for cc_session_keyring_load; anything else is
 * a token for cc_session_verify under a fixed keyring.  A token that
 * verifies must be the one canonical spelling: minting what it decoded to
 * gives back exactly the input.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cc_session.h"


#define FUZZ_NOW  1795000000LL

/* Not a secret: the fuzzing keyring, also used by make-seeds.sh. */
#define FUZZ_KEYRING                                                      \
    "f0 ZnV6ei1vbGQtc2Vzc2lvbi1rZXktMDEyMzQ1Njc4OWFi\n"                   \
    "f1 ZnV6ei1zZXNzaW9uLWtleS0wMTIzNDU2Nzg5YWJjZGVm active\n"

static cc_session_keyring_t  fuzz_ring;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (cc_session_keyring_load(&fuzz_ring, FUZZ_KEYRING,
                                strlen(FUZZ_KEYRING)) != CC_SESSION_OK)
    {
        abort();
    }
    return 0;
}


static void
check_canonical(const uint8_t *data, size_t size, cc_session_t *s)
{
    cc_session_keyring_t  one;
    char                  again[CC_SESSION_TOKEN_MAX + 1];
    size_t                i;

    /* Mint under the key that verified it, active or not. */
    cc_session_keyring_init(&one);
    for (i = 0; i < fuzz_ring.count; i++) {
        if (strcmp(fuzz_ring.keys[i].kid, s->kid) == 0) {
            cc_session_keyring_add(&one, s->kid, fuzz_ring.keys[i].key,
                                   fuzz_ring.keys[i].keylen, 1);
        }
    }
    if (cc_session_mint(&one, s, again, sizeof(again)) != CC_SESSION_OK
        || strlen(again) != size || memcmp(again, data, size) != 0)
    {
        abort();
    }
    cc_session_keyring_wipe(&one);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cc_session_keyring_t  ring;
    cc_session_t          s;

    if (size > 0 && data[0] == 'K') {
        if (cc_session_keyring_load(&ring, (const char *) data + 1, size - 1)
            == CC_SESSION_OK
            && (ring.count > CC_SESSION_MAX_KEYS
                || (ring.has_active && ring.active >= ring.count)))
        {
            abort();
        }
        cc_session_keyring_wipe(&ring);
        return 0;
    }

    if (cc_session_verify(&fuzz_ring, (const char *) data, size, FUZZ_NOW, &s)
        == CC_SESSION_OK)
    {
        check_canonical(data, size, &s);
    }
    return 0;
}
