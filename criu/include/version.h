/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRIU_VERSION_H
#define CRIU_VERSION_H

#define CRIU_VERSION_MAJOR 4
#define CRIU_VERSION_MINOR 2
#define CRIU_VERSION_SUBLEVEL 0

#endif
