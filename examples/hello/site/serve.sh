#!/bin/sh
echo "serving site"
