#ifndef SBX_VERSION_H
#define SBX_VERSION_H
#define SBX_VERSION "0.1.0"
#endif
