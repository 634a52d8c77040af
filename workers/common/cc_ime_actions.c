/*
 * The IME log pattern actions the agent dispatches on (names only: they
 * are the agent's interface, see cc_ime_actions.h).
 */

#include <stddef.h>
#include <string.h>

#include "cc_ime_actions.h"


static const char  *ime_actions[] = {
    "setCurrentApp", "updateStateInstalled", "updateStateDownloading",
    "updateStateInstalling", "updateStateSkipped", "updateStateError",
    "updateStatePostponed", "espPhaseDetected", "imeStarted",
    "policiesDiscovered", "ignoreCompletedApp", "imeAgentVersion",
    "espTrackStatus", "updateName", "updateWin32AppState",
    "cancelStuckAndSetCurrent", "imeSessionChange", "imeImpersonation",
    "enrollmentCompleted", "updateDoTelemetry", "scriptStarted",
    "scriptContext", "scriptExitCode", "scriptOutput", "scriptCompleted",
    "healthScriptResult", "captureExitCode", "captureHResult",
    "captureAppVersion", "captureAppTypeWinGet", "captureAppTypeMsi",
    "captureAttemptNumber", "captureDetectionResult",
};


int
cc_ime_action_known(const char *name)
{
    size_t  i;

    if (name == NULL) {
        return 0;
    }
    for (i = 0; i < sizeof(ime_actions) / sizeof(ime_actions[0]); i++) {
        if (strcmp(name, ime_actions[i]) == 0) {
            return 1;
        }
    }
    return 0;
}
