// The one module that knows the UI toolkit: @vscode/webview-ui-toolkit today. Its successor,
// @vscode-elements/elements, would replace this file alone (the toolkit was deprecated in Jan 2025).
import {
  provideVSCodeDesignSystem, vsCodeBadge, vsCodeButton, vsCodeCheckbox, vsCodeDropdown, vsCodeOption,
  vsCodePanels, vsCodePanelTab, vsCodePanelView, vsCodeProgressRing, vsCodeTextField,
} from '@vscode/webview-ui-toolkit';

provideVSCodeDesignSystem().register(
  vsCodeBadge(), vsCodeButton(), vsCodeCheckbox(), vsCodeDropdown(), vsCodeOption(),
  vsCodePanels(), vsCodePanelTab(), vsCodePanelView(), vsCodeProgressRing(), vsCodeTextField(),
);

/** Element names, so the rest of the webview never spells a toolkit tag itself. */
export const ui = {
  button: 'vscode-button',
  textField: 'vscode-text-field',
  dropdown: 'vscode-dropdown',
  option: 'vscode-option',
  checkbox: 'vscode-checkbox',
  badge: 'vscode-badge',
  panels: 'vscode-panels',
  panelTab: 'vscode-panel-tab',
  panelView: 'vscode-panel-view',
  progressRing: 'vscode-progress-ring',
} as const;

/** The current value of a toolkit input (text field, dropdown) or checkbox. */
export function valueOf(el: Element): string {
  return (el as unknown as { value?: string }).value ?? '';
}

export function checkedOf(el: Element): boolean {
  return !!(el as unknown as { checked?: boolean }).checked;
}

export function setValue(el: Element, v: string): void {
  (el as unknown as { value: string }).value = v;
}

export function setChecked(el: Element, v: boolean): void {
  (el as unknown as { checked: boolean }).checked = v;
}
