/*
 * ccctl: the entry point, the help text, and dispatch to the subcommands.
 */

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "ccctl.h"


static const char  ccctl_help[] =
"usage: ccctl COMMAND ...\n"
"\n"
"Operator tool for Concierge.  Runs exactly the library code nginx and the\n"
"workers run, so its verdicts are theirs.\n"
"\n"
"  ccctl jwt verify --jwks FILE|URL [--issuer ISS]... [--audience AUD]...\n"
"                   [--alg ALG]... [--leeway SECONDS] [--now UNIX]\n"
"                   [--max-len BYTES] TOKEN|-\n"
"      Verify an Entra ID token.  Prints the verified claims as JSON and\n"
"      exits 0, or prints the rejection reason and exits 1.  --audience is\n"
"      required.  Without --issuer the Entra multi-tenant issuers are used:\n"
"        https://login.microsoftonline.com/{tenantid}/v2.0\n"
"        https://sts.windows.net/{tenantid}/\n"
"      --alg narrows the algorithms (default: RS256, PS256, ES256, EdDSA,\n"
"      each only with its key type).  Leeway defaults to 60 s (at most\n"
"      300); --now defaults to the clock.\n"
"\n"
"  ccctl jwt sign --key PEM [--alg RS256|PS256|ES256|EdDSA] [--kid KID]\n"
"                 CLAIMS_JSON|-\n"
"      Sign claims (a JSON object) with a private key: for tests only.\n"
"\n"
"  ccctl jwks show --jwks FILE|URL\n"
"      List the keys of a JWKS as the verifier sees them, and why any key\n"
"      is left out.\n"
"\n"
"  ccctl jwks from-pem [--alg ALG] [--issuer ISS] KID=PEM...\n"
"      Build a JWKS document from PEM keys (public or private): for tests.\n"
"\n"
"  ccctl session keygen [--kid KID]\n"
"      Print a keyring line with a new random 32-byte key.\n"
"\n"
"  ccctl session mint --keyring FILE --tenant UUID --user UUID\n"
"                     [--roles ROLE,...] [--ttl SECONDS] [--now UNIX]\n"
"                     [--sid UUID]\n"
"      Mint a session token with the keyring's active key.\n"
"\n"
"  ccctl session verify --keyring FILE [--now UNIX] TOKEN|-\n"
"      Verify a session token; prints its content as JSON and exits 0,\n"
"      or prints the rejection reason and exits 1.\n"
"\n"
"Exit status: 0 success, 1 rejected, 2 usage or input error.\n"
"Tokens and keys are never echoed in error messages.\n";


void
ccctl_usage(void)
{
    fputs(ccctl_help, stdout);
}


int
main(int argc, char **argv)
{
    int  rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0
        || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)
    {
        ccctl_usage();
        return argc < 2 ? CCCTL_ERROR : CCCTL_OK;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);

    if (strcmp(argv[1], "jwt") == 0) {
        rc = ccctl_jwt(argc - 2, argv + 2);
    } else if (strcmp(argv[1], "jwks") == 0) {
        rc = ccctl_jwks(argc - 2, argv + 2);
    } else if (strcmp(argv[1], "session") == 0) {
        rc = ccctl_session(argc - 2, argv + 2);
    } else {
        fprintf(stderr, "ccctl: unknown command '%s' (try ccctl --help)\n",
                argv[1]);
        rc = CCCTL_ERROR;
    }

    curl_global_cleanup();
    return rc;
}
