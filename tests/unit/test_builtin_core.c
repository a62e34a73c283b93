// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the builtin stack's core: ARP, IPv4, ICMP, UDP over a mem pair. */
#include "cove/netstack.h"
#include "tests/unit/check.h"

int main(void)
{
	CHECK(cove_stack_find("builtin") != NULL);
	return check_summary();
}
