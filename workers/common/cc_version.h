/*
 * The version every worker reports in its health answer and start-up log.
 */

#ifndef CC_VERSION_H
#define CC_VERSION_H

#define CC_VERSION  "0.1.0"

#endif /* CC_VERSION_H */
