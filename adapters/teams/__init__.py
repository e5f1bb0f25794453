"""The Microsoft Teams adapter, on botbuilder-python 4.17.

botbuilder-python is archived (support ended 31 December 2025; the successor is
the Microsoft 365 Agents SDK). Every botbuilder import stays inside this
package so that a switch later stays local.
"""
