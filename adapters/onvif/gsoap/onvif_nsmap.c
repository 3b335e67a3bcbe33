/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one namespace table of the program (soapcpp2 writes the same table into every .nsmap).
 * libgsoapssl refers to the global `namespaces`, so it is linked with the generated code. */
#include "soapH.h"
#include "Device.nsmap"
