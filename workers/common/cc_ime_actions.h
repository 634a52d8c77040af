/*
 * The actions an agent's IME log pattern may name (agent-protocol.md 5,
 * imeLogPatterns[].action): the agent's log tracker dispatches on these
 * names, so a pattern with any other action does nothing on the device.
 * One list, for cc-api's validation of tenant overrides and for the test
 * of the default set.
 */

#ifndef CC_IME_ACTIONS_H
#define CC_IME_ACTIONS_H

/* True when name is one of the actions the agent knows. */
int cc_ime_action_known(const char *name);

#endif /* CC_IME_ACTIONS_H */
