#ifndef SBX_NET_H
#define SBX_NET_H

#include "lib/error.h"

/* Bring the loopback interface of the current network namespace up. */
int sbx_net_loopback_up(struct sbx_error **err);

#endif
