# Installation into the Debian places and the CPack .deb.
#
#   cmake --install build                       # binary, unit, default config, docs
#   cmake --build build --target package        # or: cd build && cpack -G DEB
#
# Locations are decided at install time from the prefix the install runs with (CPack installs
# with /usr): prefix/bin/alarmgw, prefix/lib/systemd/system/alarmgw.service (its ExecStart names
# that binary), prefix/share/doc/alarmgw/, and the configuration in
# /etc/alarmgw/ when the prefix is /usr (prefix/etc/alarmgw/ otherwise). An existing
# configuration is never overwritten by `cmake --install` (dpkg handles it as a conffile).

# Installing and packaging take what has been built (`cmake --build` first) instead of building
# every target (tests, benchmarks) on the way.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(AGW_PKG_DIR ${PROJECT_SOURCE_DIR}/systemd)
set(AGW_PKG_STAGE ${PROJECT_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${AGW_PKG_STAGE})

# The unit names /usr/bin/alarmgw; for another prefix the installed copy names that prefix's.
install(CODE "
  file(READ \"${AGW_PKG_DIR}/alarmgw.service\" _agw_unit)
  string(REPLACE \"/usr/bin/alarmgw\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/alarmgw\" _agw_unit \"\${_agw_unit}\")
  file(WRITE \"${AGW_PKG_STAGE}/alarmgw.service\" \"\${_agw_unit}\")
" COMPONENT alarmgw)
install(FILES ${AGW_PKG_STAGE}/alarmgw.service DESTINATION lib/systemd/system COMPONENT alarmgw)
# The system user; `systemd-sysusers` creates it (the .deb's postinst runs it).
install(FILES ${AGW_PKG_DIR}/alarmgw.sysusers DESTINATION lib/sysusers.d RENAME alarmgw.conf COMPONENT alarmgw)

install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(_agw_etc \"/etc/alarmgw\")
  else()
    set(_agw_etc \"\${CMAKE_INSTALL_PREFIX}/etc/alarmgw\")
  endif()
  if(EXISTS \"\$ENV{DESTDIR}\${_agw_etc}/alarmgw.conf\")
    message(STATUS \"Keeping: \$ENV{DESTDIR}\${_agw_etc}/alarmgw.conf\")
  else()
    file(INSTALL DESTINATION \"\${_agw_etc}\" TYPE FILE FILES \"${AGW_PKG_DIR}/alarmgw.conf\")
  endif()
" COMPONENT alarmgw)

file(GLOB AGW_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md ${PROJECT_SOURCE_DIR}/docs/*.png)
install(FILES ${AGW_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT alarmgw)
# The ONVIF topic table is installed by adapters/onvif/CMakeLists.txt (share/alarmgw/).

# ---- CPack: one Debian package ----
set(CPACK_PACKAGE_NAME alarmgw)
set(CPACK_PACKAGE_VENDOR "alarmgw project")
set(CPACK_PACKAGE_CONTACT "alarmgw maintainers <alarmgw@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "video-alarm integration gateway: camera events to grid cases over MQTT")
set(CPACK_PACKAGE_DESCRIPTION
  "alarmgw receives events from cameras of many vendors (ONVIF PullPoint, RTSP), normalizes them,
journals them in sqlite, turns them into grid-management cases by rules and delivers the cases
over MQTT without loss. It runs as the systemd service alarmgw.service.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "file:///usr/share/doc/alarmgw/operator-guide.md")
# dpkg-shlibdeps derives the runtime libraries (libuv1, libsqlite3-0, libpaho-mqtt1.3, libav*, ...)
# from the binary itself, so the list never goes stale; systemd is needed for the service.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd (>= 247)")
# The status page draws its map with Debian's Leaflet, read at run time; without it the page has no map.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libjs-leaflet")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mosquitto")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# conffiles: dpkg keeps the operator's edits to the configuration across upgrades.
file(WRITE ${AGW_PKG_STAGE}/conffiles "/etc/alarmgw/alarmgw.conf\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${AGW_PKG_STAGE}/conffiles ${AGW_PKG_DIR}/debian/postinst ${AGW_PKG_DIR}/debian/prerm ${AGW_PKG_DIR}/debian/postrm)

# Install into a staging DESTDIR with the real prefix, so the rules above see /usr (and /etc).
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)

if(AGW_SANITIZE)
  message(STATUS "alarmgw: a package made from this sanitizer build depends on libasan/libubsan; "
    "package a build without AGW_SANITIZE")
endif()

include(CPack)
