/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ledger addresses of HTTP devices (ISAPI, Dahua): host[:port] or an http(s) URL. */
#ifndef AGW_VENDOR_ADDRESS_H
#define AGW_VENDOR_ADDRESS_H

/* NULL when the address is usable, else why not. what names the protocol ("an isapi device"). */
const char *agw_vendor_check_http_address(const char *address, const char *what_needs);

#endif
