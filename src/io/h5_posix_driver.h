/* Internal to src/io: the output writer's HDF5 file driver (h5_posix_driver.c). */
#ifndef MS_IO_H5_POSIX_DRIVER_H
#define MS_IO_H5_POSIX_DRIVER_H

#include <hdf5.h>

/* A file-access property list that opens files with the driver; a failed write stores its errno
 * in *err (which must outlive the file) instead of failing the HDF5 call. H5I_INVALID_HID if the
 * driver cannot be registered. The caller closes the list. */
hid_t ms__h5_posix_fapl(int *err);
/* errno of the driver's last failed open (for the message when a file cannot be created). */
int ms__h5_posix_open_errno(void);

#endif
