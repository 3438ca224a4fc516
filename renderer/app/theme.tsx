// Light and dark: follows the system (prefers-color-scheme) unless the user picked one. The choice is
// kept in the app's settings on the desktop and in localStorage in a browser.
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import CssBaseline from '@mui/material/CssBaseline'
import { createTheme, ThemeProvider } from '@mui/material/styles'
import useMediaQuery from '@mui/material/useMediaQuery'
import type { Platform } from '../connection/types.ts'

export type ThemePreference = 'system' | 'light' | 'dark'

const STORAGE_KEY = 'vireo.theme'
const ORDER: ThemePreference[] = ['system', 'light', 'dark']

interface ThemeChoice {
  preference: ThemePreference
  mode: 'light' | 'dark'
  /** system → light → dark → system */
  cycle(): void
}

const ThemeChoiceContext = createContext<ThemeChoice>({
  preference: 'system',
  mode: 'light',
  cycle: () => undefined,
})

export function useThemeChoice(): ThemeChoice {
  return useContext(ThemeChoiceContext)
}

function isPreference(v: unknown): v is ThemePreference {
  return v === 'system' || v === 'light' || v === 'dark'
}

function stored(): ThemePreference {
  try {
    const v = localStorage.getItem(STORAGE_KEY)
    return isPreference(v) ? v : 'system'
  } catch {
    return 'system'
  }
}

export function makeTheme(mode: 'light' | 'dark') {
  const focus = mode === 'dark' ? '#9fd8bd' : '#1b5e40'
  return createTheme({
    palette: {
      mode,
      primary: { main: mode === 'dark' ? '#7cc4a4' : '#2e7d5b' },
      secondary: { main: mode === 'dark' ? '#f0b866' : '#b36b00' },
    },
    typography: {
      // System fonts only: the CSP allows fonts from the app itself, and none are bundled.
      fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, Ubuntu, Cantarell, "Noto Sans", sans-serif',
    },
    components: {
      // Keyboard focus always shows: a ring on everything focusable but text fields (their border does it).
      MuiCssBaseline: {
        styleOverrides: {
          ':focus-visible:not(input):not(textarea)': { outline: `2px solid ${focus}`, outlineOffset: 2 },
        },
      },
      MuiButtonBase: {
        styleOverrides: {
          root: { '&.Mui-focusVisible': { outline: `2px solid ${focus}`, outlineOffset: 2 } },
        },
      },
      MuiLink: {
        styleOverrides: { root: { '&:focus-visible': { outline: `2px solid ${focus}`, outlineOffset: 2 } } },
      },
    },
  })
}

export function VireoThemeProvider(props: { platform: Platform; children: ReactNode }) {
  const prefersDark = useMediaQuery('(prefers-color-scheme: dark)', { noSsr: true })
  const [preference, setPreference] = useState<ThemePreference>(() =>
    props.platform.kind === 'browser' ? stored() : 'system',
  )
  const electron = props.platform.kind === 'electron'

  useEffect(() => {
    if (!electron) return
    let live = true
    window.vireo.getSettings().then(
      (s) => {
        if (live && isPreference(s.theme)) setPreference(s.theme)
      },
      () => undefined,
    )
    return () => {
      live = false
    }
  }, [electron])

  const mode = preference === 'system' ? (prefersDark ? 'dark' : 'light') : preference
  const theme = useMemo(() => makeTheme(mode), [mode])
  const choice = useMemo<ThemeChoice>(
    () => ({
      preference,
      mode,
      cycle: () => {
        const next = ORDER[(ORDER.indexOf(preference) + 1) % ORDER.length] ?? 'system'
        setPreference(next)
        if (electron) void window.vireo.setTheme(next).catch(() => undefined)
        else {
          try {
            localStorage.setItem(STORAGE_KEY, next)
          } catch {
            /* private mode: the choice lasts for this page */
          }
        }
      },
    }),
    [preference, mode, electron],
  )
  return (
    <ThemeChoiceContext.Provider value={choice}>
      <ThemeProvider theme={theme}>
        <CssBaseline enableColorScheme />
        {props.children}
      </ThemeProvider>
    </ThemeChoiceContext.Provider>
  )
}
